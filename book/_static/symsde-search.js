/* symsde book: search results show maths as readable text, not raw TeX.
 *
 * Sphinx builds a result's summary from the page's HTML, where MathJax has not run yet, so
 * it would show "\(\sigma^2\)". This wraps Search.htmlToText to drop the delimiters and
 * write Greek letters and common commands as characters ("σ^2").
 */
(function () {
  const GREEK = {alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", zeta: "ζ",
    eta: "η", theta: "θ", kappa: "κ", lambda: "λ", mu: "μ", nu: "ν", xi: "ξ", pi: "π",
    rho: "ρ", sigma: "σ", tau: "τ", phi: "φ", varphi: "φ", chi: "χ", psi: "ψ", omega: "ω",
    Gamma: "Γ", Delta: "Δ", Theta: "Θ", Lambda: "Λ", Xi: "Ξ", Pi: "Π", Sigma: "Σ", Phi: "Φ",
    Psi: "Ψ", Omega: "Ω", nabla: "∇", partial: "∂", infty: "∞", sim: "~", approx: "≈",
    propto: "∝", le: "≤", ge: "≥", neq: "≠", to: "→", cdot: "·", times: "×", ln: "ln",
    log: "log", exp: "exp", sqrt: "√", int: "∫", sum: "∑", prod: "∏"};
  function plain(tex) {
    return tex
      .replace(/\\mathcal\{(\w)\}/g, "$1")
      .replace(/\\(?:mathrm|text|operatorname|mathbf)\{([^{}]*)\}/g, "$1 ")
      .replace(/\\\|/g, "‖")
      .replace(/\\frac\{([^{}]*)\}\{([^{}]*)\}/g,
               (m, a, b) => `${a.length > 1 ? "(" + a + ")" : a}/${b.length > 1 ? "(" + b + ")" : b}`)
      .replace(/\\(left|right|big|Big|,|;|!|quad|qquad|displaystyle)/g, "")
      .replace(/\\([A-Za-z]+)/g, (m, name) => (name in GREEK ? GREEK[name] : name))
      .replace(/[{}]/g, "")
      .replace(/\s+/g, " ").trim();
  }
  function clean(text) {
    return text
      .replace(/\\\(([\s\S]*?)\\\)/g, (m, t) => plain(t))
      .replace(/\\\[([\s\S]*?)\\\]/g, (m, t) => plain(t))
      .replace(/\$\$([\s\S]*?)\$\$/g, (m, t) => plain(t));
  }
  function patch() {
    // searchtools.js declares `const Search` at the top level: a global binding, not a
    // property of window
    if (typeof Search === "undefined" || !Search.htmlToText || Search._symsdePlain) return;
    const original = Search.htmlToText;
    Search.htmlToText = (html, anchor) => clean(original(html, anchor));
    Search._symsdePlain = true;
  }
  patch();
  document.addEventListener("DOMContentLoaded", patch);
})();
