import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The web app's build: served by the API process under /app (src/http/web/web-app-routes.ts).
// `npm run dev:web` serves it with hot reload on :5173 and passes /api and /app's server routes to
// the API on :3000 (sign in through http://127.0.0.1:3000/app/dev-login first: the cookie is the
// API's; then open the dev server's /app).
const api = process.env.NMC_API_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/app/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, assetsInlineLimit: 0 },
  server: {
    port: 5173,
    fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] },
    proxy: {
      '/api': { target: api, changeOrigin: false },
      '^/app/(session|login|logout|callback|dev-login|phone/api)': { target: api, changeOrigin: false },
    },
  },
});
