// Reading only what the caller will read. A list or batch reader may be told which view fields
// its caller reads (the fields a GraphQL query selects, say). It then fetches only the columns
// those fields are made from, plus the keys it groups and pages by, and its views carry those
// fields, the others left undefined. Without fields, or with one the map does not know, it reads
// every column and its views are whole: a new field never comes back empty by mistake.

/** Names of the view fields a caller will read; undefined: all of them. */
export type ViewFields = readonly string[] | undefined;

/** For each field of a view, the columns it is made from. */
export type ColumnsOf<View, Column extends string> = { readonly [Field in keyof View]-?: readonly Column[] };

export function columnsFor<View, Column extends string>(map: ColumnsOf<View, Column>, fields: ViewFields, keys: readonly NoInfer<Column>[]): Column[] | undefined {
  if (fields === undefined) return undefined;
  const columns = new Set<Column>(keys);
  for (const field of fields) {
    const from = Object.hasOwn(map, field) ? (map as Readonly<Record<string, readonly Column[]>>)[field] : undefined;
    if (!from) return undefined;
    for (const column of from) columns.add(column);
  }
  return [...columns];
}
