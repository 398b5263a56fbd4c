// Progress of a long GPU job as the UI reports it: what runs now and how far along the whole job is.
export interface Progress {
  /** What is running now ("timing attention.flash_decode at S = 4096"). */
  label: string;
  done: number;
  total: number;
}
