/**
 * Real browsers for the web demo tests: Chromium (AEKIT_CHROMIUM, else Debian's /usr/bin/chromium,
 * else the one inside the @sparticuz/chromium devDependency, so `npm test` needs no apt step) driven
 * by playwright-core, and Firefox ESR (Debian's `firefox-esr`, apt only) driven over WebDriver BiDi
 * by puppeteer-core.
 *
 * The shared browser-launch helper (src/core/browser.ts, issue 17) replaces the Chromium half when
 * it lands; until then this file is the web tests' own.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import type { Browser as PuppeteerBrowser } from 'puppeteer-core';

/** Flags for a quiet, throwaway headless Chromium that never reaches Google (playwright adds a fresh profile). */
const CHROMIUM_FLAGS = ['--no-sandbox', '--headless=new', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];

/** Debian's Firefox ESR. */
export const FIREFOX = '/usr/bin/firefox-esr';
/** What to run when Firefox ESR is missing (.ci/run installs it). */
export const FIREFOX_INSTALL = 'apt-get install -y firefox-esr';

/** The Chromium to launch and where it came from. */
export async function chromiumExecutable(): Promise<{ path: string; source: string }> {
  if (process.env.AEKIT_CHROMIUM) return { path: process.env.AEKIT_CHROMIUM, source: 'AEKIT_CHROMIUM' };
  if (existsSync('/usr/bin/chromium')) return { path: '/usr/bin/chromium', source: 'system' };
  const bundled = (await import('@sparticuz/chromium')).default;
  return { path: await bundled.executablePath(), source: '@sparticuz/chromium' };
}

/**
 * Headless Chromium: with `webgpu`, WebGPU on (SwiftShader's adapter on a machine without a GPU);
 * without, the GPU off, so the page's 'auto' choice falls to wasm.
 */
export async function launchChromium(webgpu: boolean): Promise<Browser> {
  const { path } = await chromiumExecutable();
  return chromium.launch({ executablePath: path, args: [...CHROMIUM_FLAGS, ...(webgpu ? ['--enable-unsafe-webgpu'] : ['--disable-gpu'])] });
}

/** Headless Firefox ESR over WebDriver BiDi, or undefined when it is not installed. */
export async function launchFirefox(): Promise<PuppeteerBrowser | undefined> {
  if (!existsSync(FIREFOX)) return undefined;
  return puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, protocol: 'webDriverBiDi', headless: true });
}
