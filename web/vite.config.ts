import { defineConfig } from "vite";

// The app is served by the Python package at "/" (index.html) and "/assets/*".
// `npm run dev` proxies the API to a local `labelproof serve --port 8790`.
export default defineConfig({
  base: "/",
  build: { target: "es2022", sourcemap: false, chunkSizeWarningLimit: 600 },
  server: { proxy: { "/api": "http://127.0.0.1:8790" } },
});
