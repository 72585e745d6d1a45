/** The Chromium binary: CHROMIUM_PATH, else Debian's. */
export declare const CHROMIUM: string;
/** Headless, no sandbox (containers), no GPU, and none of the browser's own network traffic. */
export declare const CHROMIUM_ARGS: string[];
