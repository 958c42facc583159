# Replays an ns-2 movement file in ns-2 itself and prints every node's position at given times:
#   ns ns2-positions.tcl SCENE NODES WIDTH HEIGHT T1 T2 ...
# Output: one line "T NODE X Y" per node and time (X_ and Y_ as ns-2 holds them).
set scene [lindex $argv 0]
set nn [lindex $argv 1]
set width [lindex $argv 2]
set height [lindex $argv 3]
set times [lrange $argv 4 end]

set ns_ [new Simulator]
set tracefd [open /dev/null w]
$ns_ trace-all $tracefd
set topo [new Topography]
$topo load_flatgrid $width $height
set god_ [create-god $nn]
$ns_ node-config -adhocRouting DumbAgent -llType LL -macType Mac/802_11 \
    -ifqType Queue/DropTail/PriQueue -ifqLen 50 -antType Antenna/OmniAntenna \
    -propType Propagation/TwoRayGround -phyType Phy/WirelessPhy \
    -channel [new Channel/WirelessChannel] -topoInstance $topo \
    -agentTrace OFF -routerTrace OFF -macTrace OFF -movementTrace OFF
for {set i 0} {$i < $nn} {incr i} {
    set node_($i) [$ns_ node]
    $node_($i) random-motion 0
}
source $scene

proc dump {t} {
    global node_ nn
    for {set i 0} {$i < $nn} {incr i} {
        $node_($i) log-movement
        puts [format "%s %d %.12f %.12f" $t $i [$node_($i) set X_] [$node_($i) set Y_]]
    }
}
set last 0
foreach t $times {
    $ns_ at $t "dump $t"
    if {$t > $last} { set last $t }
}
$ns_ at [expr $last + 1] "exit 0"
$ns_ run
