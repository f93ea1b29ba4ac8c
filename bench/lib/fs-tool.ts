/**
 * The in-volume file-system measurement the volume benchmarks share (volumes.ts, replicated.ts):
 * fio's sync-write pattern reduced to python3, so a process pod, a runc pod with the host's /usr and
 * the host itself run the very same tool.
 */
/**
 * The measurement, identical on every side: argv = directory, rounds, MiB. Prints one JSON line. A
 * sync() (untimed) before each phase and after the last unlink, so no phase pays for flushing dirty
 * data of an earlier one (an ext4 journal commit for one fsync may carry other files' data along).
 */
export const FS_TOOL = `
import json, os, sys, time
d, rounds, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
st = os.stat(d)
p = os.path.join(d, 'bench-%d.bin' % os.getpid())
os.sync()
fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
page, lat = b'\\xa5' * 4096, []
for _ in range(rounds):
    t = time.perf_counter_ns(); os.write(fd, page); os.fsync(fd); lat.append((time.perf_counter_ns() - t) // 1000)
os.close(fd); os.unlink(p)
os.sync()
chunk = b'\\x5a' * (1 << 20)
fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
t = time.perf_counter_ns()
for _ in range(mib): os.write(fd, chunk)
os.fsync(fd)
seq = time.perf_counter_ns() - t
os.close(fd); os.unlink(p)
os.sync()
print(json.dumps({'dev': st.st_dev, 'ino': st.st_ino, 'latUs': lat, 'seqMiBs': mib / (seq / 1e9)}))
`;

export interface FsResult { dev: number; ino: number; latUs: number[]; seqMiBs: number }

export const parseFs = (out: string): FsResult => JSON.parse(out.trim().split('\n').at(-1)!) as FsResult;
