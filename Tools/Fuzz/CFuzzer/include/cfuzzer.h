// libFuzzer's driver, for fuzz targets whose `main` is Swift's (SwiftPM names every executable's
// entry point itself). Present only when linked with -sanitize=fuzzer.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
