// 履职助手管理后台: a little progressive enhancement; every page works without it.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Filter a table as one types (the search button still asks the server).
  for (const input of document.querySelectorAll("input[data-filter-table]")) {
    const table = document.getElementById(input.dataset.filterTable);
    if (!table) continue;
    input.addEventListener("input", () => {
      const needle = input.value.trim().toLowerCase();
      for (const row of table.tBodies[0].rows) {
        row.hidden = needle !== "" && !row.textContent.toLowerCase().includes(needle);
      }
    });
  }

  // Ask before a real (not preview) roster import.
  for (const form of document.querySelectorAll("form[data-confirm-unless]")) {
    form.addEventListener("submit", (event) => {
      const preview = form.elements[form.dataset.confirmUnless];
      if (preview && !preview.checked && !window.confirm("确定导入并更新名册吗？（勾选“仅预览”可先查看结果）")) {
        event.preventDefault();
      }
    });
  }

  // Show that a slow form is on its way, and keep it from being sent twice. The button
  // pressed is only relabelled, never disabled: a disabled button's name and value (which
  // action, for forms with several) would be left out of what is sent.
  for (const form of document.querySelectorAll("form[data-busy]")) {
    form.addEventListener("submit", (event) => {
      if (event.defaultPrevented) return;
      if (form.dataset.sent) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
      const button = event.submitter || form.querySelector("button[type=submit]");
      if (button) {
        button.textContent = form.dataset.busy;
        button.setAttribute("aria-busy", "true");
      }
    });
  }
});

// A page shown again from the back-forward cache may be submitted again.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  for (const form of document.querySelectorAll("form[data-busy]")) {
    delete form.dataset.sent;
  }
});
