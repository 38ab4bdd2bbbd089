/*
 * reuseport.c - let every SIP worker bind the same UDP port.
 *
 * Each worker owns a Sofia nta agent, and Sofia opens and binds its sockets
 * itself without a way to ask for SO_REUSEPORT.  greenwichd therefore
 * provides bind(2): while reuseport is on, a socket gets SO_REUSEPORT before
 * the real bind, and the kernel then spreads incoming datagrams over the
 * workers' sockets.  main.c first checks, without the option, that no other
 * process holds the ports, so two servers never share a port by accident.
 *
 * The kernel picks a socket by hashing the sender's address, so everything
 * one client sends reaches one worker: a retransmission, an ACK or a CANCEL
 * finds its transaction there.  A REGISTER needs no such place (it is
 * answered without a transaction, and the location service, the nonces and
 * the guard are shared by every worker), and it is most of what a server
 * receives from a client behind one address: a front end, a NAT, a few load
 * generators.  So a classic BPF program on the group sends each datagram that
 * starts with "REGISTER " to a worker drawn at random, and leaves everything
 * else to the hash (an index past the last socket makes the kernel fall back
 * to it).
 */
#include "config.h"

#include <linux/filter.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "reuseport.h"

/* the workers sharing each port; below 2, reuseport is off */
static atomic_uint reuseport_workers;

void
reuseport_set(unsigned workers)
{
	atomic_store(&reuseport_workers, workers);
}

/* "REGI" and "STER", as a BPF word load reads them (network byte order) */
#define WORD_REGI 0x52454749u
#define WORD_STER 0x53544552u

int
reuseport_spread_register(int fd, unsigned workers)
{
	/* offset 0 is the first byte of the UDP payload */
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 9, 0, 7), /* "REGISTER " */
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, WORD_REGI, 0, 5),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, WORD_STER, 0, 3),
	    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 8),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ' ', 0, 1),
	    BPF_STMT(BPF_JMP | BPF_JA, 1),
	    BPF_STMT(BPF_RET | BPF_K, 0xffffffffu), /* not a REGISTER: by address */
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (__u32)(SKF_AD_OFF + SKF_AD_RANDOM)),
	    BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, workers),
	    BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};

	if (workers < 2)
		return 0;
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog));
}

int
bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	unsigned workers = atomic_load(&reuseport_workers);
	bool dgram = false;

	if (workers > 1) {
		int one = 1;
		int type = 0;
		socklen_t tl = sizeof(type);
		/* a burst of answers (a PUBLISH fanned out to 1,000 watchers answering at
		 * once) overflows the default 208 KiB: ask for 4 MiB (capped by the
		 * kernel's net.core.rmem_max) */
		int rcvbuf = 4 << 20;
		dgram = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_DGRAM;
		if (dgram) {
			(void)setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		}
	}
	int rc = (int)syscall(SYS_bind, fd, addr, len);
	/* in the group now: (re)place its program; without it, all by address */
	if (rc == 0 && dgram)
		(void)reuseport_spread_register(fd, workers);
	return rc;
}
