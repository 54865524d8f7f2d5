/**
 * The service's zod: `zod/mini`, whose functional API bundlers can tree-shake (classic `zod` pulls
 * every locale and the JSON-schema code into the Worker), with zod's English messages. zod/mini
 * loads no locale, so without `config(en())` every built-in issue would read just "Invalid input";
 * with it, users get "Invalid option: expected one of …", "Too small: …" as with classic zod.
 * Import it as `import * as z from "../zod.js"`, never "zod" or "zod/mini" directly, so the messages
 * are configured before any schema parses. `en` is imported by name: `z.locales.en()` would bundle
 * all locales.
 */
import { en } from "zod/locales";
import { config } from "zod/mini";

config(en());

export * from "zod/mini";
