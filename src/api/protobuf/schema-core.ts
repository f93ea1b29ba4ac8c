/**
 * Field table for the core/v1 configuration and service kinds: ConfigMap, Secret, Namespace,
 * ServiceAccount, Service, Binding and PodTemplate, plus the references they share
 * (ObjectReference, LocalObjectReference). Upstream equivalent: the matching messages of
 * k8s.io/api core/v1 generated.proto (Kubernetes 1.33, a superset of 1.32). Notation: see
 * schema-meta.ts. Pods, volumes and nodes have their own files.
 */
/** Field tables of the core/v1 configuration and service kinds, by message name. */
export const coreMessages: Record<string, string> = {
  ConfigMap: '1 metadata ObjectMeta; 4 immutable bool!; 2 data map<string,string>; 3 binaryData map<string,bytes>',
  Secret: `1 metadata ObjectMeta; 5 immutable bool!; 2 data map<string,bytes>; 4 stringData map<string,string>;
    3 type string`,
  Namespace: '1 metadata ObjectMeta; 2 spec NamespaceSpec; 3 status NamespaceStatus',
  NamespaceSpec: '1 finalizers string[]',
  NamespaceStatus: '1 phase string; 2 conditions NamespaceCondition[]',
  NamespaceCondition: '1 type string!; 2 status string!; 4 lastTransitionTime Time; 5 reason string; 6 message string',
  ServiceAccount: `1 metadata ObjectMeta; 2 secrets ObjectReference[]; 3 imagePullSecrets LocalObjectReference[];
    4 automountServiceAccountToken bool!`,
  ObjectReference: `1 kind string; 2 namespace string; 3 name string; 4 uid string; 5 apiVersion string;
    6 resourceVersion string; 7 fieldPath string`,
  LocalObjectReference: '1 name string',
  Service: '1 metadata ObjectMeta; 2 spec ServiceSpec; 3 status ServiceStatus',
  ServiceSpec: `1 ports ServicePort[]; 2 selector map<string,string>; 3 clusterIP string; 18 clusterIPs string[];
    4 type string; 5 externalIPs string[]; 7 sessionAffinity string; 8 loadBalancerIP string;
    9 loadBalancerSourceRanges string[]; 10 externalName string; 11 externalTrafficPolicy string;
    12 healthCheckNodePort int32; 13 publishNotReadyAddresses bool; 14 sessionAffinityConfig SessionAffinityConfig;
    19 ipFamilies string[]; 17 ipFamilyPolicy string!; 20 allocateLoadBalancerNodePorts bool!;
    21 loadBalancerClass string!; 22 internalTrafficPolicy string!; 23 trafficDistribution string!`,
  ServicePort: '1 name string; 2 protocol string; 6 appProtocol string!; 3 port int32!; 4 targetPort IntOrString; 5 nodePort int32',
  SessionAffinityConfig: '1 clientIP ClientIPConfig',
  ClientIPConfig: '1 timeoutSeconds int32!',
  ServiceStatus: '1 loadBalancer LoadBalancerStatus; 2 conditions Condition[]',
  LoadBalancerStatus: '1 ingress LoadBalancerIngress[]',
  LoadBalancerIngress: '1 ip string; 2 hostname string; 3 ipMode string!; 4 ports PortStatus[]',
  PortStatus: '1 port int32!; 2 protocol string!; 3 error string!',
  Binding: '1 metadata ObjectMeta; 2 target ObjectReference',
  PodTemplate: '1 metadata ObjectMeta; 2 template PodTemplateSpec',
};
