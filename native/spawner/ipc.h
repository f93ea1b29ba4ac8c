#ifndef BERTH_IPC_H
#define BERTH_IPC_H

/* Opens the channel Node gave this helper (NODE_CHANNEL_FD); -1 when there is none. */
int ipc_open(void);
/* Hands socket fd to the agent as the answer to request id; 0, or -1 with errno. */
int ipc_send_socket(int ipc, long id, int fd);
/* Reads and drops what the agent sent (its acknowledgements); 0 once the channel is closed. */
int ipc_drain(int ipc);

#endif
