import { defineConfig } from "vite";

// The app is served by the Python package at "/" (index.html) and "/assets/*".
// `npm run dev` proxies the API to a local `labelproof serve --port 8790`.
export default defineConfig({
  base: "/",
  build: { target: "es2022", sourcemap: false, chunkSizeWarningLimit: 600 },
  server: { proxy: { "/api": "http://127.0.0.1:8790" } },
  // cornerstone's DICOM loader (web/src/dicom/, loaded on demand) decodes in a module
  // worker that imports its WASM codecs by URL: ES workers, and no dev pre-bundling of
  // the loader (pre-bundling breaks its `new URL(..., import.meta.url)` lookups); its
  // CommonJS dependencies (the codecs' Emscripten glue, dicom-parser) are pre-bundled
  // so that `npm run dev` serves them as ES modules.
  worker: { format: "es" },
  optimizeDeps: {
    exclude: ["@cornerstonejs/dicom-image-loader"],
    include: [
      "dicom-parser",
      "@cornerstonejs/codec-charls/decodewasmjs",
      "@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs",
      "@cornerstonejs/codec-libjxl/decodewasmjs",
      "@cornerstonejs/codec-openjpeg/decodewasmjs",
      "@cornerstonejs/codec-openjph/wasmjs",
    ],
  },
});
