// Prism highlights every `code.language-*` in the document on load unless told it is driven by hand; this
// module runs before Prism's (import order) so Prism reads `manual: true` when it starts.
(globalThis as { Prism?: { manual?: boolean } }).Prism = { manual: true };
export {};
