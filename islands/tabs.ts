// Tab switching for the whole page: the nav's buttons and "send to …" actions show one [data-panel] and tell
// islands which tab is active through a "webui-tab" event.
export function showTab(id: string): void {
  for (const el of document.querySelectorAll<HTMLElement>("[data-panel]")) {
    el.hidden = el.dataset.panel !== id;
  }
  for (const b of document.querySelectorAll<HTMLElement>("[data-tab]")) {
    b.classList.toggle("active", b.dataset.tab === id);
  }
  dispatchEvent(new CustomEvent("webui-tab", { detail: id }));
}

export function wireTabs(): void {
  for (const b of document.querySelectorAll<HTMLElement>("[data-tab]")) {
    b.addEventListener("click", () => showTab(b.dataset.tab!));
  }
}
