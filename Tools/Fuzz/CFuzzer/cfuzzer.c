// The declarations are in include/cfuzzer.h; this file only makes the target a C library.
