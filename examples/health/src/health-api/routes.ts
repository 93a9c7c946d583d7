import { isRecordType, isWritableType, type RecordType, type WritableType } from '../fhir.ts';

/** A request the API serves, as its path says; methods and input are checked after. */
export type Route =
  | { kind: 'patient'; id: string }
  | { kind: 'record'; type: RecordType; id: string }
  | { kind: 'type'; type: RecordType };

/** The methods each kind of route answers (the `Allow` header of a 405). */
export function allowedMethods(route: Route): string[] {
  return route.kind === 'type' && isWritableType(route.type) ? ['GET', 'POST'] : ['GET'];
}

/**
 * `{base}/Patient/{id}`, `{base}/{Type}/{id}` and `{base}/{Type}`, with {Type} one of the record
 * types. No Patient search: the grant names the patient by its FHIR id, so a client reads it.
 * Ids are returned raw (percent-encoded as sent): the caller decodes and checks them.
 */
export function routeOf(pathname: string, basePath: string): Route | undefined {
  if (!pathname.startsWith(`${basePath}/`)) return undefined;
  const parts = pathname.slice(basePath.length + 1).split('/');
  const [type, id] = parts;
  if (parts.length === 2 && type === 'Patient') return { kind: 'patient', id: id! };
  if (!type || !isRecordType(type) || parts.length > 2) return undefined;
  return parts.length === 2 ? { kind: 'record', type, id: id! } : { kind: 'type', type };
}

export const writable = (route: Route): route is { kind: 'type'; type: WritableType } => route.kind === 'type' && isWritableType(route.type);
