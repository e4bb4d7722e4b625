/**
 * Real browsers for the web demo tests: Chromium from aekit's launcher (src/core/browser.ts, so
 * `npm test` needs no apt step), and Firefox ESR (Debian's `firefox-esr`, apt only) driven over
 * WebDriver BiDi by puppeteer-core.
 */
import { accessSync, constants } from 'node:fs';
import { launchChromium as launchBrowser } from '../../src/core/browser';
import type { Browser } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import type { Browser as PuppeteerBrowser } from 'puppeteer-core';

/** Debian's Firefox ESR. */
export const FIREFOX = '/usr/bin/firefox-esr';
/** What to run when Firefox ESR is missing (.ci/run installs it). */
export const FIREFOX_INSTALL = 'apt-get install -y firefox-esr';

/**
 * Headless Chromium through aekit's one launcher (src/core/browser.ts: AEKIT_CHROMIUM, a system
 * Chromium, else the bundled one): with `webgpu`, WebGPU on (SwiftShader's adapter without a GPU);
 * without, the GPU off, so the page's 'auto' choice falls to wasm.
 */
export async function launchChromium(webgpu: boolean): Promise<Browser> {
  return (await launchBrowser({ gpu: webgpu ? 'webgpu' : 'off' })).browser;
}

/** True when Firefox ESR is there to run (present and executable). */
function firefoxInstalled(): boolean {
  try {
    accessSync(FIREFOX, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Headless Firefox ESR over WebDriver BiDi, or undefined when it is not installed (or not executable). */
export async function launchFirefox(): Promise<PuppeteerBrowser | undefined> {
  if (!firefoxInstalled()) return undefined;
  return puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, protocol: 'webDriverBiDi', headless: true });
}
