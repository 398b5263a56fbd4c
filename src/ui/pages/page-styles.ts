// What the run pages (technique pages, the decoder layer) share in layout: the heading and summary, the
// settings card beside the teaching card (stacked on narrow screens), the run settings and the lesson box.
import { css } from 'lit';

export const runPageStyles = css`
  header {
    margin-bottom: var(--kl-gap);
  }
  .summary {
    max-width: 80ch;
  }
  .layout {
    display: grid;
    gap: var(--kl-gap);
    grid-template-columns: minmax(0, 3fr) minmax(0, 2fr);
    align-items: start;
  }
  @media (max-width: 900px) {
    .layout {
      grid-template-columns: minmax(0, 1fr);
    }
  }
  .controls {
    display: flex;
    flex-direction: column;
    gap: 12px;
  }
  .run-settings label {
    display: flex;
    flex-direction: column;
    margin-top: 6px;
  }
  .lesson {
    border-left: 3px solid var(--kl-accent);
    padding: 2px 10px;
    margin-top: 8px;
  }
  .lesson p {
    margin: 4px 0;
  }
`;
