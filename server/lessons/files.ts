import "server-only";
import fs from "node:fs";
import path from "node:path";

/**
 * The lesson loader's file access, in one place. Lessons are read at run time from the checkout
 * (they are not bundled), so Next's file tracing must not try to follow these dynamic paths: each
 * call carries turbopackIgnore, which otherwise makes the bundler trace the whole project.
 */

export const join = (...parts: string[]): string => path.join(/*turbopackIgnore: true*/ ...parts);
export const resolve = (...parts: string[]): string => path.resolve(/*turbopackIgnore: true*/ ...parts);
export const readText = (file: string): string => fs.readFileSync(/*turbopackIgnore: true*/ file, "utf8").replace(/\r\n?/g, "\n");
export const exists = (p: string): boolean => fs.existsSync(/*turbopackIgnore: true*/ p);
export const list = (dir: string): fs.Dirent[] => fs.readdirSync(/*turbopackIgnore: true*/ dir, { withFileTypes: true });
export const stat = (p: string): fs.Stats => fs.statSync(/*turbopackIgnore: true*/ p);
