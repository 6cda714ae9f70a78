// zod as the rest of the code imports it (its ESM build), for code that loads it on first use with
// `require`: `require("zod")` itself would pick the package's CommonJS build — a second copy of zod
// whose ZodError is another class (`instanceof ZodError` elsewhere would miss its errors).
export { z, ZodError } from "zod";
