/**
 * The StatefulSet e2e suite's manifests and member checks (statefulset.test.ts): a key-value set of
 * process pods, its headless Service, and the OrderedReady invariant its observations are held to.
 */

export type Member = { name: string; ready: boolean; deleting: boolean; uid: string; revision: string };

/** A process-pod member: writes its ordinal and a start line to its volume, serves the volume over HTTP. */
export function kvSet(name: string, spec: Record<string, unknown> = {}, env: Record<string, string> = {}) {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name },
    spec: {
      serviceName: name, replicas: 3, selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          runtimeClassName: 'process', terminationGracePeriodSeconds: 1,
          containers: [{
            name: 'kv', image: 'host',
            command: ['sh', '-c', 'echo "$ORDINAL" > /data/ordinal; echo "start $(date +%s%N) $VERSION" >> /data/starts; exec python3 -m http.server 8080 --directory /data'],
            env: [
              { name: 'ORDINAL', valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } } },
              ...Object.entries({ VERSION: 'v1', ...env }).map(([n, value]) => ({ name: n, value })),
            ],
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/ordinal', port: 8080 }, periodSeconds: 1 },
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          }],
        },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } } }],
      ...spec,
    },
  };
}

export const headless = (name: string, port = 8080) => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name },
  spec: { clusterIP: 'None', selector: { app: name }, ports: [{ name: 'http', port }] },
});

export const allReady = (names: string[]) => (m: Member[]) => names.every((n) => m.some((x) => x.name === n && x.ready && !x.deleting)) && m.length === names.length;
/**
 * OrderedReady creation: when a member (a pod uid) first shows up, every lower member is Ready. A lower
 * member's readiness flapping later is no breach: Kubernetes then only holds back further creations.
 */
export const createdInOrder = (app: string) => {
  const known = new Set<string>();
  return (m: Member[]) => {
    for (const x of m) {
      if (known.has(x.uid)) continue;
      known.add(x.uid);
      const i = Number(x.name.slice(app.length + 1));
      for (let j = 0; j < i; j++) {
        if (!m.find((y) => y.name === `${app}-${j}`)?.ready) return `${x.name} appeared while ${app}-${j} was not Ready`;
      }
    }
    return undefined;
  };
};

/**
 * https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#components as published:
 * only the image differs (a local one serving its volume).
 */
export const docsExample = (webImage: string): string => `apiVersion: v1
kind: Service
metadata:
  name: nginx
  labels:
    app: nginx
spec:
  ports:
  - port: 80
    name: web
  clusterIP: None
  selector:
    app: nginx
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: nginx # has to match .spec.template.metadata.labels
  serviceName: "nginx"
  replicas: 3 # by default is 1
  minReadySeconds: 10 # by default is 0
  template:
    metadata:
      labels:
        app: nginx # has to match .spec.selector.matchLabels
    spec:
      terminationGracePeriodSeconds: 10
      containers:
      - name: nginx
        image: ${webImage}
        ports:
        - containerPort: 80
          name: web
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ "ReadWriteOnce" ]
      storageClassName: "my-storage-class"
      resources:
        requests:
          storage: 1Gi
`;
