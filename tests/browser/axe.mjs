// axe-core in a page, whatever its Content-Security-Policy: the script is added to the browser context as an
// init script (injected by the browser itself, not by the page), then run on demand.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");

export async function withAxe(context) {
  await context.addInitScript({ path: AXE });
  return context;
}

/** The page's accessibility violations, as { id, impact, help, nodes } with the selectors of the first few. */
export async function audit(page, include = "document") {
  const violations = await page.evaluate(async (selector) => {
    const scope = selector === "document" ? document : document.querySelector(selector);
    const results = await window.axe.run(scope, { resultTypes: ["violations"] });
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
  }, include);
  return violations;
}

/** Serious and critical violations only: the gate the browser tests apply. */
export const blocking = (violations) => violations.filter((v) => v.impact === "serious" || v.impact === "critical");
