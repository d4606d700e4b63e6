{
  "targets": [
    {
      "target_name": "csgnet_native",
      "sources": ["native/src/addon.cc", "native/src/allocator.cc", "native/src/convert.cc", "native/src/dist.cc", "native/src/ops.cc", "native/src/tensor.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "USE_C10D_GLOO"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-idirafter", "<(module_root_dir)/native/compat", "-fexceptions", "-frtti", "-Wno-unused-parameter", "-Wno-deprecated-declarations",
                    "<!@(node native/libtorch.cjs cflags)"],
      "libraries": ["<!@(node native/libtorch.cjs libs)"]
    }
  ]
}
