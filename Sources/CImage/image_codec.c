#include "codecs.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
/// An IEND chunk: zero length, its type and its fixed CRC; every complete PNG ends with it.
static const unsigned char png_end[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};

/// The format of a file from its first bytes, or -1 with the reason in `error`.
static int detect(FILE *file, char *error) {
    unsigned char head[12] = {0};
    size_t n = fread(head, 1, sizeof head, file);
    rewind(file);
    if (n == 0) {
        snprintf(error, TANDEM_IMAGE_ERROR_SIZE, "the file is empty");
        return -1;
    }
    size_t png_part = n < 8 ? n : 8;
    if (memcmp(head, png_signature, png_part) == 0) {
        if (n < 8) snprintf(error, TANDEM_IMAGE_ERROR_SIZE, "truncated (the file ends inside the PNG signature)");
        return n < 8 ? -1 : TANDEM_IMAGE_PNG;
    }
    if (n >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) return TANDEM_IMAGE_JPEG;
    const char *other = NULL;
    if (n >= 6 && (memcmp(head, "GIF87a", 6) == 0 || memcmp(head, "GIF89a", 6) == 0)) other = "a GIF image";
    else if (n >= 12 && memcmp(head, "RIFF", 4) == 0 && memcmp(head + 8, "WEBP", 4) == 0) other = "a WebP image";
    else if (n >= 4 && (memcmp(head, "II*\0", 4) == 0 || memcmp(head, "MM\0*", 4) == 0)) other = "a TIFF image";
    else if (n >= 2 && memcmp(head, "BM", 2) == 0) other = "a BMP image";
    if (other)
        snprintf(error, TANDEM_IMAGE_ERROR_SIZE, "%s, not a PNG or JPEG file; convert it to PNG", other);
    else
        snprintf(error, TANDEM_IMAGE_ERROR_SIZE, "not a PNG or JPEG file (its first bytes are neither signature)");
    return -1;
}

/// Whether the file ends as a complete image does: an IEND chunk, or a JPEG's end-of-image marker.
static int ends_complete(FILE *file, int format) {
    unsigned char tail[12];
    size_t want = format == TANDEM_IMAGE_PNG ? 12 : 2;
    int complete = fseek(file, -(long)want, SEEK_END) == 0 && fread(tail, 1, want, file) == want;
    rewind(file);
    if (!complete) return 0;
    return format == TANDEM_IMAGE_PNG ? memcmp(tail, png_end, 12) == 0 : tail[0] == 0xFF && tail[1] == 0xD9;
}

static FILE *open_image(const char *path, char *error) {
    FILE *file = fopen(path, "rb");
    if (!file) snprintf(error, TANDEM_IMAGE_ERROR_SIZE, "cannot be opened: %s", strerror(errno));
    return file;
}

static int read_image(FILE *file, int format, tandem_image_info *info, void **pixels, char *error) {
    return format == TANDEM_IMAGE_PNG ? tandem_png_read(file, info, pixels, error)
                                      : tandem_jpeg_read(file, info, pixels, error);
}

int tandem_image_probe(const char *path, tandem_image_info *info, char *error) {
    FILE *file = open_image(path, error);
    if (!file) return -1;
    int format = detect(file, error), status = -1;
    if (format > 0) {
        status = read_image(file, format, info, NULL, error);
        if (status == 0 && !ends_complete(file, format)) {
            // Rare (trailing bytes after the image, or truncation): a full decode decides.
            void *pixels = NULL;
            rewind(file);
            status = read_image(file, format, info, &pixels, error);
            free(pixels);
        }
    }
    fclose(file);
    return status;
}

int tandem_image_decode(const char *path, tandem_image_info *info, void **pixels, char *error) {
    *pixels = NULL;
    FILE *file = open_image(path, error);
    if (!file) return -1;
    int format = detect(file, error), status = -1;
    if (format > 0) status = read_image(file, format, info, pixels, error);
    fclose(file);
    return status;
}

void tandem_image_free(void *pixels) { free(pixels); }

int tandem_image_check_size(const tandem_image_info *info, char *error) {
    const uint64_t limit = 2 * 89478485ull;
    uint64_t pixels = (uint64_t)info->width * info->height;
    if (pixels == 0) {
        snprintf(error, TANDEM_IMAGE_ERROR_SIZE, "the image has no pixels (%ux%u)", info->height, info->width);
        return -1;
    }
    if (pixels > limit) {
        snprintf(error, TANDEM_IMAGE_ERROR_SIZE,
                 "the image is %ux%u, more than %llu pixels (Pillow's decompression-bomb limit); shrink it first",
                 info->height, info->width, (unsigned long long)limit);
        return -1;
    }
    return 0;
}

void *tandem_image_allocate(const tandem_image_info *info, char *error) {
    size_t bytes = (size_t)info->width * info->height * (size_t)info->channels * (size_t)(info->bit_depth / 8);
    void *buffer = malloc(bytes);
    if (!buffer)
        snprintf(error, TANDEM_IMAGE_ERROR_SIZE, "out of memory for its %ux%u pixels", info->height, info->width);
    return buffer;
}
