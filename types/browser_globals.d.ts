// Globals of the two page scripts (dashboard, explorer), for their type check (tsconfig.browser.json).

// onnxruntime-web's browser build, copied next to the explorer page as ort/ort.wasm.min.mjs.
declare module '*/ort.wasm.min.mjs' {
  export * from 'onnxruntime-web';
}

// vega-embed's UMD build, loaded by a <script> tag on the dashboard page.
declare function vegaEmbed(el: string | HTMLElement, spec: object, opts?: object): Promise<{ view: { finalize(): void } & Record<string, any>; finalize(): void }>;

interface Window {
  /** The explorer's test hook (test/explore_browser.test.ts). */
  csgnetExplorer: unknown;
}
