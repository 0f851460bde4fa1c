// The browser entry point (bundled by lib/server/bundle.ts): wires the tab bar and hydrates every island on
// the page from its server-rendered HTML and props.
import { h, hydrate } from "preact";
import { ISLANDS } from "./registry.ts";
import { wireTabs } from "./tabs.ts";

wireTabs();
for (const el of document.querySelectorAll<HTMLElement>("[data-island]")) {
  const component = ISLANDS[el.dataset.island!];
  if (!component) throw new Error(`unknown island ${el.dataset.island}`);
  hydrate(h(component, JSON.parse(el.dataset.props ?? "{}")), el);
}
document.body.dataset.hydrated = "true";
