// Types of the API client (api.js), derived from the types generated from openapi.yaml
// (types/api.d.ts, made by scripts/web.sh): a change to the contract that the app does not
// follow fails the type check.
import type { paths, components } from "./types/api";

export type Schemas = components["schemas"];
export type Method = "get" | "post" | "put" | "patch" | "delete";
/** The paths that have this method. */
export type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P][M] extends never | undefined ? never : P;
}[keyof paths];
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type Json<R> = R extends { content: { "application/json": infer T } } ? T : null;
type Responses<P extends keyof paths, M extends Method> = Operation<P, M> extends {
  responses: infer R;
}
  ? R
  : never;
/** The body of the operation's success response (null for 204). */
export type Result<P extends keyof paths, M extends Method> = Responses<P, M> extends {
  200: infer A;
}
  ? Json<A>
  : Responses<P, M> extends { 201: infer B }
    ? Json<B>
    : Responses<P, M> extends { 202: infer C }
      ? Json<C>
      : null;
type Parameters<P extends keyof paths, M extends Method> = Operation<P, M> extends {
  parameters: infer Q;
}
  ? Q
  : {};
type BodyOf<P extends keyof paths, M extends Method> = Operation<P, M> extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;
/** What a call may carry: path parameters, query and JSON body, as the contract says. */
export type Options<P extends keyof paths, M extends Method> = {
  params?: Parameters<P, M> extends { path?: infer T } ? T : never;
  query?: Parameters<P, M> extends { query?: infer T } ? T : never;
  body?: BodyOf<P, M>;
};
