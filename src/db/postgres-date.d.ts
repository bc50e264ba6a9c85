// postgres-date 1.x ships no types: it parses PostgreSQL's date/time text into a Date (or
// Infinity/-Infinity, or null).
declare module 'postgres-date' {
  export default function parseDate(value: string): Date | number | null;
}
