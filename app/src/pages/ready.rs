//! When a page is ready, and nothing typed before is lost.
//!
//! A page's HTML arrives before its code: the main module hydrates the shell, and a lazily
//! loaded page hydrates only when its chunk has arrived. Text typed or a choice made in that
//! gap goes to inputs that nothing listens to yet, and hydration may even reset them. So the
//! shell carries a small script (`EARLY_INPUT`, run at once with the page's nonce) that notes
//! every `input`/`change` a person makes before the page is ready, by the element's id (or
//! name). When a page's own code has hydrated, `page_hydrated` asks it to put each noted value
//! back and send the event again — now to the page's handlers — and only then sets
//! `data-hydrated` on `<body>` (what tests and the first-load budget wait for).

use leptos::prelude::*;

/// The script in the shell's `<head>`; see the module's documentation.
pub const EARLY_INPUT: &str = r##"(function () {
  var early = new Map(), focused = null;
  function key(el) {
    if (el.id) return "#" + CSS.escape(el.id);
    if (!el.name) return null;
    var k = el.tagName.toLowerCase() + "[name=\"" + CSS.escape(el.name) + "\"]";
    // radios of one group share a name: each is its own choice
    if (el.type === "radio") k += "[value=\"" + CSS.escape(el.value) + "\"]";
    return k;
  }
  function note(e) {
    var el = e.target;
    // also what a password manager or a test fills in (not "trusted" events)
    if (!el || !("value" in el) || el.type === "file") return;
    if (document.body && document.body.hasAttribute("data-hydrated")) return;
    var k = key(el);
    if (!k) return;
    early.set(k, { value: el.value, checked: el.checked });
    if (document.activeElement === el) focused = k;
  }
  document.addEventListener("input", note, true);
  document.addEventListener("change", note, true);
  function replay() {
      early.forEach(function (v, k) {
        var el = document.querySelector(k);
        if (!el) return;
        var choice = el.type === "checkbox" || el.type === "radio";
        if (choice) el.checked = v.checked; else el.value = v.value;
        el.dispatchEvent(new Event("input", { bubbles: true }));
        if (choice || el.tagName === "SELECT") el.dispatchEvent(new Event("change", { bubbles: true }));
      });
      if (focused && document.activeElement === document.body) {
        var f = document.querySelector(focused);
        if (f) f.focus();
      }
      early.clear();
      focused = null;
      document.body.setAttribute("data-hydrated", "");
  }
  window.switchboardHydrated = function () {
    // once the whole page has arrived (its streamed parts too), and after the tasks
    // hydration queued (a page's suspended parts) have run
    var later = function () { setTimeout(replay, 0); };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", later);
    else later();
  };
})();"##;

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = window, js_name = switchboardHydrated)]
    fn switchboard_hydrated() -> Result<(), wasm_bindgen::JsValue>;
}

/// Called by every page (not by the console frame around pages): once its own code has
/// hydrated, what was typed before is put back and `data-hydrated` is set.
pub fn page_hydrated() {
    Effect::new(|_| {
        #[cfg(target_arch = "wasm32")]
        if switchboard_hydrated().is_err()
            && let Some(body) = document().body()
        {
            let _ = body.set_attribute("data-hydrated", "");
        }
    });
}
