#include "codecs.h"
#include <setjmp.h>
#include <stdlib.h>
#include <jpeglib.h>
#include <jerror.h>

/// libjpeg's error manager first, so the handlers can reach the rest from cinfo->err.
typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char *error;
} jpeg_context;

static void jpeg_failed(j_common_ptr cinfo) {
    jpeg_context *context = (jpeg_context *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, text);
    snprintf(context->error, TANDEM_IMAGE_ERROR_SIZE, "corrupt JPEG data (libjpeg: %s)", text);
    longjmp(context->jump, 1);
}

/// libjpeg meets the end of a truncated file with a warning and pads the image with grey; that
/// is an error here, as in Pillow. Other warnings (stray bytes between markers) leave it usable.
static void jpeg_said(j_common_ptr cinfo, int level) {
    jpeg_context *context = (jpeg_context *)cinfo->err;
    if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        snprintf(context->error, TANDEM_IMAGE_ERROR_SIZE, "truncated (the file ends inside the JPEG data)");
        longjmp(context->jump, 1);
    }
}

int tandem_jpeg_read(FILE *file, tandem_image_info *info, void **pixels, char *error) {
    struct jpeg_decompress_struct cinfo;
    jpeg_context context = {.error = error};
    cinfo.err = jpeg_std_error(&context.manager);
    context.manager.error_exit = jpeg_failed;
    context.manager.emit_message = jpeg_said;
    // Set after setjmp, so volatile: a longjmp must find its current value.
    unsigned char *volatile buffer = NULL;
    if (setjmp(context.jump)) {
        free(buffer);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, file);
    jpeg_read_header(&cinfo, TRUE);
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo.out_color_space = JCS_GRAYSCALE;
        break;
    case JCS_YCbCr:
    case JCS_RGB:
        cinfo.out_color_space = JCS_RGB;
        break;
    default:
        snprintf(error, TANDEM_IMAGE_ERROR_SIZE,
                 "a JPEG in an unsupported colour space (%s); save it as an RGB or greyscale JPEG",
                 cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK ? "CMYK" : "unknown");
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    jpeg_calc_output_dimensions(&cinfo);
    info->format = TANDEM_IMAGE_JPEG;
    info->width = cinfo.output_width;
    info->height = cinfo.output_height;
    info->channels = cinfo.output_components;
    info->bit_depth = 8;
    if (tandem_image_check_size(info, error) != 0) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    if (pixels) {
        buffer = tandem_image_allocate(info, error);
        if (!buffer) {
            jpeg_destroy_decompress(&cinfo);
            return -1;
        }
        jpeg_start_decompress(&cinfo);
        size_t row_bytes = (size_t)info->width * (size_t)info->channels;
        while (cinfo.output_scanline < cinfo.output_height) {
            JSAMPROW row = buffer + (size_t)cinfo.output_scanline * row_bytes;
            jpeg_read_scanlines(&cinfo, &row, 1);
        }
        jpeg_finish_decompress(&cinfo);
        *pixels = buffer;
    }
    jpeg_destroy_decompress(&cinfo);
    return 0;
}
