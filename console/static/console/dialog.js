// Modal <dialog> plumbing shared by Transfer, Snooze, Resolve and Help:
// showModal() traps focus and closes on Esc; we put focus on a sensible
// control when opening and return it to the opener when closing.

const fallbackFocus = () => document.getElementById("thread-title");

export function openDialog(dialog, { focus } = {}) {
  if (dialog.open) return;
  const opener = document.activeElement;
  dialog.showModal();
  (focus || dialog.querySelector("[autofocus]") || dialog.querySelector("input, select, textarea, button"))?.focus();
  dialog.addEventListener("close", () => {
    // The opener may be gone (a queue row re-rendered, an action button hidden).
    const target = opener instanceof HTMLElement && opener.isConnected && !opener.hidden && opener !== document.body
      ? opener : fallbackFocus();
    target?.focus();
  }, { once: true });
}

export function anyDialogOpen() {
  return Boolean(document.querySelector("dialog[open]"));
}

/** A dialog around one form whose submit runs an async action. */
export class FormDialog {
  constructor(dialog) {
    this.dialog = dialog;
    this.form = dialog.querySelector("form");
    this.error = dialog.querySelector("[data-error]");
    this.busy = false;
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit(e.submitter);
    });
    for (const button of dialog.querySelectorAll("[data-close]")) button.addEventListener("click", () => this.close());
    // A click on the backdrop (the dialog box itself, outside the form) closes.
    dialog.addEventListener("click", (e) => {
      if (e.target === dialog) this.close();
    });
  }

  show(focus) {
    this.showError("");
    openDialog(this.dialog, { focus });
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  /** Override: validate and call run(). */
  submit() {}

  /** Run the request; close on success, keep the dialog and say why on failure. */
  async run(request) {
    if (this.busy) return;
    this.busy = true;
    this.dialog.setAttribute("aria-busy", "true");
    for (const b of this.form.querySelectorAll("button:not([data-close])")) b.disabled = true;
    this.showError("");
    try {
      await request();
      this.close();
    } catch (err) {
      this.showError(err.detail || err.message || "Something went wrong. Try again.");
    } finally {
      this.busy = false;
      this.dialog.removeAttribute("aria-busy");
      for (const b of this.form.querySelectorAll("button:not([data-close])")) b.disabled = false;
    }
  }

  showError(text, field) {
    this.error.textContent = text;
    this.error.hidden = !text;
    for (const f of this.form.querySelectorAll("[aria-invalid]")) f.removeAttribute("aria-invalid");
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  }
}
