// Every island by name: the server renders an extension's tab from the name it declares, and the browser
// bundle hydrates each island it finds on the page from the same table.
import type { ComponentType } from "preact";
import Checkpoint from "./checkpoint.tsx";
import EmbeddingTab from "./embedding_tab.tsx";
import WebUI from "./webui.tsx";

// deno-lint-ignore no-explicit-any
export const ISLANDS: Record<string, ComponentType<any>> = { WebUI, EmbeddingTab, Checkpoint };
