// An island: rendered on the server like any component, and hydrated in the browser by islands/client.ts,
// which finds it by name and reads its props back from the data-props attribute.
import type { ComponentType, VNode } from "preact";

export function Island<P extends object>(
  { name, component: C, props }: { name: string; component: ComponentType<P>; props: P },
): VNode {
  return (
    <div data-island={name} data-props={JSON.stringify(props)}>
      <C {...props} />
    </div>
  );
}
