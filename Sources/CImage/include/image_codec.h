#ifndef TANDEM_IMAGE_CODEC_H
#define TANDEM_IMAGE_CODEC_H
// PNG and JPEG decoding through libpng and libjpeg. Both libraries report an error by a
// longjmp out of the failing call; the jump must land in C, never across Swift frames, so every
// call into them happens here, behind a setjmp, and comes back as a return code and a message.

#include <stddef.h>
#include <stdint.h>

/// Where a decode failed or what a probe found, as a file format.
enum { TANDEM_IMAGE_PNG = 1, TANDEM_IMAGE_JPEG = 2 };

/// Room for a message: the reason only, without the file's path.
enum { TANDEM_IMAGE_ERROR_SIZE = 320 };

/// An image's layout as decoded: 8-bit or 16-bit samples, interleaved, rows top first.
typedef struct {
    /// TANDEM_IMAGE_PNG or TANDEM_IMAGE_JPEG.
    int format;
    uint32_t width, height;
    /// Samples per pixel: 1 grey, 2 grey and alpha, 3 RGB, 4 RGBA (palettes and tRNS expanded).
    int channels;
    /// Bits per sample: 8, or 16 for a 16-bit PNG (host byte order).
    int bit_depth;
} tandem_image_info;

/// Reads the header of the image at `path` (and its last bytes, to find truncation cheaply; a
/// file that does not end like a complete image is decoded in full to be sure).
/// - Parameters:
///   - path: the file.
///   - info: filled on success.
///   - error: TANDEM_IMAGE_ERROR_SIZE bytes, filled with the reason on failure.
/// Returns 0 on success, -1 on failure.
int tandem_image_probe(const char *path, tandem_image_info *info, char *error);

/// Decodes the image at `path` into a new buffer of width x height x channels samples.
/// - Parameters:
///   - path: the file.
///   - info: filled on success.
///   - pixels: on success a buffer to release with tandem_image_free.
///   - error: TANDEM_IMAGE_ERROR_SIZE bytes, filled with the reason on failure.
/// Returns 0 on success, -1 on failure.
int tandem_image_decode(const char *path, tandem_image_info *info, void **pixels, char *error);

/// Releases the pixels of tandem_image_decode.
void tandem_image_free(void *pixels);

#endif
