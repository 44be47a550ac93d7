// Lets plain `tsc` typecheck imports of single-file components; vue-tsc checks the .vue files themselves.
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}
