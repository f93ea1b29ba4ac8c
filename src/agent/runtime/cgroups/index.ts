/** cgroups v1/hybrid/v2: layout detection, one container cgroup, limit conversions. */
export { CONTROLLERS, detectCgroupLayout, hostCgroupLayout, type CgroupLayout, type Controller } from './detect.ts';
export { Cgroup, removeCgroupTree, type CgroupUsage } from './cgroup.ts';
export { CPU_PERIOD_US, cpuQuotaUs, cpuShares, cpuWeight, limitFiles } from './limits.ts';
