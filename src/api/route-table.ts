/**
 * The table of non-resource routes (kube-apiserver's NonGoRestfulMux / PathRecorderMux): an exact
 * path or a path prefix, the methods it answers, and its handler. Resource URLs never come here;
 * the handler chain sends them to the resource handlers first (see handler-chain.ts).
 */
import type { ServerResponse } from 'node:http';
import type { ApiRequest } from './handler-chain.ts';

export interface Route {
  /** `/version` matches that path only; `/openapi/v3/` (trailing slash) matches everything below it. */
  path: string;
  /** Default GET and HEAD. */
  methods?: readonly string[];
  handle(r: ApiRequest, res: ServerResponse): void | Promise<void>;
}

const READ = ['GET', 'HEAD'] as const;

export class RouteTable {
  private readonly exact = new Map<string, Route>();
  /** Longest prefix first, so `/ui/assets/` wins over `/ui/`. */
  private prefixes: Route[] = [];

  add(route: Route): this {
    if (route.path.endsWith('/') && route.path !== '/') {
      if (this.prefixes.some((p) => p.path === route.path)) throw new Error(`route ${route.path} registered twice`);
      this.prefixes = [...this.prefixes, route].sort((a, b) => b.path.length - a.path.length);
    } else {
      if (this.exact.has(route.path)) throw new Error(`route ${route.path} registered twice`);
      this.exact.set(route.path, route);
    }
    return this;
  }

  /** The exact route for `path`, if any. */
  exactMatch(path: string): Route | undefined {
    return this.exact.get(path);
  }

  /** The longest prefix route containing `path` (`/ui` matches `/ui/` too). */
  prefixMatch(path: string): Route | undefined {
    return this.prefixes.find((p) => path.startsWith(p.path) || path === p.path.slice(0, -1));
  }

  /** Whether `route` answers `method`. */
  static allows(route: Route, method: string): boolean {
    return (route.methods ?? READ).includes(method);
  }

  /** Every registered path, as kube-apiserver lists them on `GET /`. */
  paths(): string[] {
    return [...this.exact.keys(), ...this.prefixes.map((p) => p.path)].sort();
  }
}
