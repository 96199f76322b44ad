/*
 * Node-API binding to libdeflate's whole-buffer raw DEFLATE compressor and
 * decompressor and its CRC-32, for the archive (core/archive/libdeflate-binding.ts):
 * a file read whole deflates in about 0.6 of zlib's CPU time, a little smaller,
 * and an entry whose size is known inflates with no stream to set up. Built by
 * scripts/build-libdeflate-binding.sh against Debian's static libdeflate, so
 * the binding needs nothing at run time. One compressor per level is kept per
 * thread: each worker thread is its own Node-API environment, with its own
 * instance data.
 *
 * It also holds the two calls into glibc's malloc that keep a long backup's
 * memory flat (core/archive/native-memory.ts), which Node does not offer: the
 * buffers the archive passes between threads are freed into malloc's arenas,
 * which keep the pages unless asked to give them back.
 */
#include <libdeflate.h>
#include <node_api.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define MAX_LEVEL 12

typedef struct {
  struct libdeflate_compressor *compressors[MAX_LEVEL + 1];
  struct libdeflate_decompressor *decompressor;
} Compressors;

static void free_compressors(napi_env env, void *data, void *hint) {
  Compressors *all = data;
  for (int i = 0; i <= MAX_LEVEL; i++)
    if (all->compressors[i]) libdeflate_free_compressor(all->compressors[i]);
  if (all->decompressor) libdeflate_free_decompressor(all->decompressor);
  free(all);
}

static int typed_array_bytes(napi_env env, napi_value value, void **data, size_t *length) {
  napi_typedarray_type type;
  size_t count;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, &count, data, &buffer, &offset) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "expected a Uint8Array");
    return 0;
  }
  *length = count;
  return 1;
}

/* deflate(input, level, output): bytes written to output, or 0 if they do not fit. */
static napi_value deflate(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *input, *output;
  size_t input_length, output_length;
  int32_t level;
  if (argc < 3 || !typed_array_bytes(env, argv[0], &input, &input_length)) return NULL;
  if (napi_get_value_int32(env, argv[1], &level) != napi_ok || level < 0 || level > MAX_LEVEL) {
    napi_throw_range_error(env, NULL, "level must be 0 to 12");
    return NULL;
  }
  if (!typed_array_bytes(env, argv[2], &output, &output_length)) return NULL;
  Compressors *all;
  napi_get_instance_data(env, (void **)&all);
  if (!all->compressors[level]) {
    all->compressors[level] = libdeflate_alloc_compressor(level);
    if (!all->compressors[level]) {
      napi_throw_error(env, NULL, "libdeflate could not allocate a compressor");
      return NULL;
    }
  }
  size_t written = libdeflate_deflate_compress(all->compressors[level], input, input_length, output, output_length);
  napi_value result;
  napi_create_double(env, (double)written, &result);
  return result;
}

/*
 * inflate(input, output): raw DEFLATE data in input inflated into output; the bytes
 * written, -1 if input is not valid DEFLATE data (truncated included), -2 if the
 * result does not fit in output.
 */
static napi_value inflate(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *input, *output;
  size_t input_length, output_length;
  if (argc < 2 || !typed_array_bytes(env, argv[0], &input, &input_length) || !typed_array_bytes(env, argv[1], &output, &output_length)) return NULL;
  Compressors *all;
  napi_get_instance_data(env, (void **)&all);
  if (!all->decompressor) {
    all->decompressor = libdeflate_alloc_decompressor();
    if (!all->decompressor) {
      napi_throw_error(env, NULL, "libdeflate could not allocate a decompressor");
      return NULL;
    }
  }
  size_t written = 0;
  enum libdeflate_result result = libdeflate_deflate_decompress(all->decompressor, input, input_length, output, output_length, &written);
  double answer = result == LIBDEFLATE_SUCCESS ? (double)written : result == LIBDEFLATE_INSUFFICIENT_SPACE ? -2 : -1;
  napi_value value;
  napi_create_double(env, answer, &value);
  return value;
}

/* crc32(input): the CRC-32 of input (libdeflate's carry-less-multiply implementation). */
static napi_value crc32(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *input;
  size_t input_length;
  if (argc < 1 || !typed_array_bytes(env, argv[0], &input, &input_length)) return NULL;
  napi_value result;
  napi_create_uint32(env, libdeflate_crc32(0, input, input_length), &result);
  return result;
}

/*
 * trimMemory(): hands the free pages inside every malloc arena back to the
 * system (malloc_trim); true if any were. Elsewhere than glibc, false.
 */
static napi_value trim_memory(napi_env env, napi_callback_info info) {
  int released = 0;
#ifdef __GLIBC__
  released = malloc_trim(0);
#endif
  napi_value result;
  napi_get_boolean(env, released != 0, &result);
  return result;
}

/*
 * mapLargeAllocations(): every allocation of 128 KiB or more gets pages of its
 * own, returned to the system when freed. glibc starts so, then raises the
 * threshold to the largest block freed so far (up to 32 MiB), after which
 * freed MiB-sized buffers stay in the arenas. Process-wide; true if set.
 */
static napi_value map_large_allocations(napi_env env, napi_callback_info info) {
  int set = 0;
#ifdef __GLIBC__
  set = mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
  napi_value result;
  napi_get_boolean(env, set != 0, &result);
  return result;
}

NAPI_MODULE_INIT() {
  Compressors *all = calloc(1, sizeof(Compressors));
  if (!all || napi_set_instance_data(env, all, free_compressors, NULL) != napi_ok) {
    free(all);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  napi_property_descriptor properties[] = {
    {"deflate", NULL, deflate, NULL, NULL, NULL, napi_default, NULL},
    {"inflate", NULL, inflate, NULL, NULL, NULL, napi_default, NULL},
    {"crc32", NULL, crc32, NULL, NULL, NULL, napi_default, NULL},
    {"trimMemory", NULL, trim_memory, NULL, NULL, NULL, napi_default, NULL},
    {"mapLargeAllocations", NULL, map_large_allocations, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 5, properties);
  napi_value version;
  napi_create_string_utf8(env, LIBDEFLATE_VERSION_STRING, NAPI_AUTO_LENGTH, &version);
  napi_set_named_property(env, exports, "version", version);
  return exports;
}
