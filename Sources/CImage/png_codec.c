#include "codecs.h"
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>

/// The error state libpng's handlers reach through png_get_error_ptr.
typedef struct {
    jmp_buf jump;
    char *error;
    FILE *file;
} png_context;

static void png_failed(png_structp png, png_const_charp message) {
    png_context *context = png_get_error_ptr(png);
    // libpng's stdio reader says only "Read Error" when the file runs out.
    if (feof(context->file))
        snprintf(context->error, TANDEM_IMAGE_ERROR_SIZE, "truncated (the file ends inside the PNG data)");
    else
        snprintf(context->error, TANDEM_IMAGE_ERROR_SIZE, "corrupt PNG data (libpng: %s)", message);
    longjmp(context->jump, 1);
}

/// Warnings (an odd colour profile, a bad ancillary chunk) leave the pixels intact, as in Pillow.
static void png_warned(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

int tandem_png_read(FILE *file, tandem_image_info *info, void **pixels, char *error) {
    png_context context = {.error = error, .file = file};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, png_failed, png_warned);
    png_infop header = png ? png_create_info_struct(png) : NULL;
    if (!header) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(error, TANDEM_IMAGE_ERROR_SIZE, "out of memory for libpng");
        return -1;
    }
    // Set after setjmp, so volatile: a longjmp must find their current values.
    unsigned char *volatile buffer = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(context.jump)) {
        free(rows);
        free(buffer);
        png_destroy_read_struct(&png, &header, NULL);
        return -1;
    }
    png_init_io(png, file);
    png_read_info(png, header);
    // Palettes become RGB, grey below 8 bits becomes 8 bits, and a tRNS chunk becomes alpha.
    png_set_expand(png);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (png_get_bit_depth(png, header) == 16) png_set_swap(png);  // PNG stores 16-bit samples big-endian
#endif
    png_set_interlace_handling(png);  // png_read_image then runs every pass
    png_read_update_info(png, header);
    info->format = TANDEM_IMAGE_PNG;
    info->width = png_get_image_width(png, header);
    info->height = png_get_image_height(png, header);
    info->channels = png_get_channels(png, header);
    info->bit_depth = png_get_bit_depth(png, header);
    if (tandem_image_check_size(info, error) != 0) {
        png_destroy_read_struct(&png, &header, NULL);
        return -1;
    }
    if (pixels) {
        buffer = tandem_image_allocate(info, error);
        size_t row_bytes = png_get_rowbytes(png, header);
        rows = buffer ? malloc(sizeof(png_bytep) * info->height) : NULL;
        if (!rows) {
            if (buffer) snprintf(error, TANDEM_IMAGE_ERROR_SIZE, "out of memory for its row table");
            free(buffer);
            png_destroy_read_struct(&png, &header, NULL);
            return -1;
        }
        for (uint32_t y = 0; y < info->height; y++) rows[y] = buffer + y * row_bytes;
        png_read_image(png, rows);
        png_read_end(png, NULL);
        free(rows);
        *pixels = buffer;
    }
    png_destroy_read_struct(&png, &header, NULL);
    return 0;
}
