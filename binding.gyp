{
  "targets": [
    {
      "target_name": "vview_native",
      "sources": [
        "native/addon.cc",
        "native/tracer.cc",
        "native/statview.cc",
        "native/filter.cc",
        "native/paths.cc",
        "native/memory.cc",
        "native/spawn.cc",
        "native/syscalls.cc",
        "native/ptrace_emu.cc",
        "native/fileio.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
