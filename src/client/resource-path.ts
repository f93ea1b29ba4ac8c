/** The REST path of a resource, as client-go's request builder makes it (HTTP and in-process clients). */
import type { ResourceRef } from './client.ts';

/** Path of a collection or object: `/api/v1/namespaces/NS/pods[/NAME[/SUB]]`. */
export function resourcePath(ref: ResourceRef, namespace: string | undefined, name?: string, subresource?: string): string {
  let p = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  if (namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${ref.resource}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}
