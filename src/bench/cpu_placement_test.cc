#include "bench/cpu_placement.h"

#include <gtest/gtest.h>

namespace cerulean::bench {
namespace {

constexpr char kInterrupts[] =
    "           CPU0       CPU1       \n"
    " 24:          1          0  IO-APIC   5-edge      ACPI:Ged\n"
    " 36:          0    1726246  PCI-MSIX-0000:00:02.0   1-edge      virtio1-req.0\n"
    " 41:       3523          0  PCI-MSIX-0000:00:04.0   1-edge      virtio3-rx\n"
    " 50:        900         10  PCI-MSIX-0000:00:06.0   0-edge      nvme0q0\n"
    " 51:         10        800  PCI-MSIX-0000:00:06.0   1-edge      nvme0q1\n"
    " 52:          5        300  PCI-MSIX-0000:00:06.0   2-edge      nvme0q2\n"
    "ERR:          0\n";

TEST(CpuPlacementTest, FindsTheCpuThatTakesTheDisksInterrupts) {
  EXPECT_EQ(BusiestCpuOf(kInterrupts, {"pci0000:00", "0000:00:02.0", "virtio1", "block", "vda"}), 1);
  EXPECT_EQ(BusiestCpuOf(kInterrupts, {"nvme", "nvme0", "nvme0n1"}), 1);  // 1110 on CPU1 against 915
  // virtio10 is not virtio1, and a device without interrupt lines gives nothing.
  EXPECT_EQ(BusiestCpuOf(kInterrupts, {"virtio10"}), std::nullopt);
  EXPECT_EQ(BusiestCpuOf(kInterrupts, {"sda"}), std::nullopt);
  EXPECT_EQ(BusiestCpuOf("", {"vda"}), std::nullopt);
}

}  // namespace
}  // namespace cerulean::bench
