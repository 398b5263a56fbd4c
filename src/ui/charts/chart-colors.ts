// Series colours readable on both the light and the dark theme (Tableau 10, slightly deepened), and the
// theme's own text/grid colours read from the CSS custom properties at draw time.
export const SERIES_COLORS = ['#3a78c9', '#e0533d', '#2f9e5b', '#e59a1f', '#8e63c9', '#a0674b', '#d45aa8', '#1aa5b8'];

export function seriesColor(i: number): string {
  return SERIES_COLORS[i % SERIES_COLORS.length]!;
}

export function themeColor(el: Element, name: string, fallback: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}
