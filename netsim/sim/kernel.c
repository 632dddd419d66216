#include "sim/kernel.h"

#include <signal.h>
#include <sys/mount.h>

#include "net/netns.h"
#include "net/shape.h"
#include "sim/radio.h"
#include "sim/wifi.h"

const struct sim_kernel_ops sim_kernel_real = {
	.netns_create = netns_create,
	.netns_bind_pid = netns_bind_pid,
	.netns_open = netns_open,
	.netns_remove = netns_remove,
	.net_open = net_open,
	.net_close = net_close,
	.net_veth_create = net_veth_create,
	.net_bridge_create = net_bridge_create,
	.net_bridge_attach = net_bridge_attach,
	.shape_apply = shape_apply,
	.container_create = container_create,
	.container_wait_ready = container_wait_ready,
	.container_start = container_start,
	.container_release = container_release,
	.container_destroy = container_destroy,
	.kill = kill,
	.cgroup_system_get = cgroup_system_get,
	.cgroup_create = cgroup_create,
	.cgroup_exists = cgroup_exists,
	.cgroup_attach = cgroup_attach,
	.cgroup_remove = cgroup_remove,
	.mount = mount,
	.umount2 = umount2,
	.neigh_limits_claim = neigh_limits_claim,
	.neigh_limits_release = neigh_limits_release,
	.qemu_node_create = qemu_node_create,
	.qemu_node_boot_all = qemu_node_boot_all,
	.qemu_node_teardown = qemu_node_teardown,
	.qemu_check = qemu_check,
	.qemu_node_start = qemu_node_start,
	.qemu_agent_exec = qemu_agent_exec,
	.qemu_node_stop = qemu_node_stop,
	.netns_sysctl = sim_netns_sysctl,
	.medium_start = sim_medium_start,
	.medium_stop = sim_medium_stop,
	.wifi_check = sim_wifi_check,
	.wifi_radio_create = sim_wifi_radio_create,
	.wifi_radios_delete = sim_wifi_radios_delete,
};

const struct sim_kernel_ops *sim_kernel = &sim_kernel_real;

void sim_kernel_override(const struct sim_kernel_ops *ops)
{
	sim_kernel = ops ? ops : &sim_kernel_real;
}
