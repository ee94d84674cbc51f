// TypeScript types of the realtime protocol and REST bodies, generated from shared/schemas (never by hand).
// One module per schema (field types of different bodies may share a name), re-exported by index.ts.
import { readFileSync, readdirSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "json-schema-to-typescript";

const here = dirname(fileURLToPath(import.meta.url));
const schemas = join(here, "../../../shared/schemas");
const out = join(here, "../src/app/core/generated");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const banner = "/* Generated from shared/schemas by scripts/generate-types.mjs: do not edit. */";
const exports = [];
for (const file of readdirSync(schemas).filter((f) => f.endsWith(".schema.json")).sort()) {
  const schema = JSON.parse(readFileSync(join(schemas, file), "utf8"));
  const module = file.replace(".schema.json", "");
  const code = await compile(schema, schema.title, {
    bannerComment: banner,
    additionalProperties: false,
    ignoreMinAndMaxItems: true,
    format: false,
  });
  writeFileSync(join(out, `${module}.ts`), code);
  exports.push(`export type { ${schema.title} } from './${module}';`);
}
writeFileSync(join(out, "index.ts"), `${banner}\n${exports.join("\n")}\n`);
console.log(`generated ${exports.length} protocol types into src/app/core/generated/`);
