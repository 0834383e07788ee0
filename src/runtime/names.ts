// Runtime: objects keyed by the model's input and output names. Those names
// are the model author's (`__proto__` included), so they are defined as own
// properties rather than assigned: assigning `obj.__proto__` replaces the
// object's prototype instead of adding a key. Results stay plain objects.

/** Sets `obj[name] = value` as an own, enumerable property, whatever the name. */
export function setOwn<V>(obj: Record<string, V>, name: string, value: V): void {
  Object.defineProperty(obj, name, { value, enumerable: true, writable: true, configurable: true });
}
