# hypervisors/kvm
