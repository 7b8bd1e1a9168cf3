{
  "targets": [
    {
      "target_name": "tudui_native",
      "sources": [
        "src/tudui_native.cc", "src/conv.cc", "src/winograd.cc", "src/pooling.cc", "src/blas.cc", "src/batchnorm.cc", "src/eltwise.cc"
      ],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-O2", "-O0"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fexceptions", "-ffp-contract=off", "-Wno-unused-parameter"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"]
    }
  ]
}
