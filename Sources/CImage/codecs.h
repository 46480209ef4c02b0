#ifndef TANDEM_IMAGE_CODECS_H
#define TANDEM_IMAGE_CODECS_H
// What the per-format decoders share with the dispatch in image_codec.c.

#include "image_codec.h"
#include <stdio.h>

/// Decodes (or with `pixels` NULL, only reads the header of) the PNG or JPEG open in `file`,
/// positioned at its start; returns 0 or -1 with the reason in `error`.
int tandem_png_read(FILE *file, tandem_image_info *info, void **pixels, char *error);
int tandem_jpeg_read(FILE *file, tandem_image_info *info, void **pixels, char *error);

/// 0 when the image in `info` may be decoded; -1 with the reason in `error` when it has no pixels
/// or more than Pillow's decompression-bomb limit (2 x 89478485 pixels), so a forged header
/// cannot make a decode take all memory.
int tandem_image_check_size(const tandem_image_info *info, char *error);

/// The buffer for width x height x channels samples of bit_depth bits, or NULL with the reason
/// in `error` when it would not fit in memory.
void *tandem_image_allocate(const tandem_image_info *info, char *error);

#endif
