// Characters that change how a name is shown without being seen themselves: direction marks,
// embeddings, overrides and isolates (which can make "gnp.exe" read as "exe.png", or flip a
// sender's name around a quote), and zero-width characters (which make two different names
// look the same). A display name keeps its letters and loses these.
//
// U+061C arabic letter mark, U+200E/U+200F left-to-right and right-to-left marks,
// U+202A-U+202E embeddings and overrides, U+2066-U+2069 isolates; U+200B-U+200D zero-width
// space, non-joiner and joiner, U+2060 word joiner, U+FEFF zero-width no-break space (BOM).
const INVISIBLE_FORMATTING = /[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;

/** The name without direction-control and zero-width characters; everything else is kept. */
export function withoutInvisibleFormatting(name: string): string {
  return name.replace(INVISIBLE_FORMATTING, '');
}
