// Wharf dashboard: "select all" checkboxes and confirmations. Everything works without it
// (no select-all, no confirmation dialogs).
document.addEventListener("change", (e) => {
  const all = e.target.closest("input.select-all");
  if (!all) return;
  const table = all.closest("table");
  for (const box of table.querySelectorAll("input.row")) box.checked = all.checked;
});
document.addEventListener("click", (e) => {
  const button = e.target.closest("button[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) e.preventDefault();
});
