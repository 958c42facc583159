#
# nodes: 10, pause: 0.00, max speed: 20.00, max x: 500.00, max y: 300.00
#
$node_(0) set X_ 421.685982661015
$node_(0) set Y_ 32.221700251595
$node_(0) set Z_ 0.000000000000
$node_(1) set X_ 118.884315418065
$node_(1) set Y_ 105.064254708906
$node_(1) set Z_ 0.000000000000
$node_(2) set X_ 305.581654901845
$node_(2) set Y_ 195.329579368362
$node_(2) set Z_ 0.000000000000
$node_(3) set X_ 375.775342379061
$node_(3) set Y_ 120.107678389735
$node_(3) set Z_ 0.000000000000
$node_(4) set X_ 470.680725621430
$node_(4) set Y_ 203.211426331656
$node_(4) set Z_ 0.000000000000
$node_(5) set X_ 156.797472530481
$node_(5) set Y_ 80.232393599194
$node_(5) set Z_ 0.000000000000
$node_(6) set X_ 23.945427611621
$node_(6) set Y_ 20.823416190983
$node_(6) set Z_ 0.000000000000
$node_(7) set X_ 345.923794073087
$node_(7) set Y_ 68.001366440273
$node_(7) set Z_ 0.000000000000
$node_(8) set X_ 367.974831615287
$node_(8) set Y_ 240.854013617531
$node_(8) set Z_ 0.000000000000
$node_(9) set X_ 374.179966358802
$node_(9) set Y_ 207.101741101863
$node_(9) set Z_ 0.000000000000
$ns_ at 0.000000000000 "$node_(0) setdest 333.033703679920 202.159120805817 1.449194467029"
$ns_ at 0.000000000000 "$node_(1) setdest 440.418722598603 164.471849801518 9.550284754126"
$ns_ at 0.000000000000 "$node_(2) setdest 45.940997441236 250.717794580688 11.465935843278"
$ns_ at 0.000000000000 "$node_(3) setdest 355.726177336426 138.427830695405 3.347188834151"
$ns_ at 0.000000000000 "$node_(4) setdest 476.175069935716 30.310565048037 14.062081176069"
$ns_ at 0.000000000000 "$node_(5) setdest 269.274452470496 0.514142822228 13.899281725998"
$ns_ at 0.000000000000 "$node_(6) setdest 197.618054133969 220.786923268735 5.706901156119"
$ns_ at 0.000000000000 "$node_(7) setdest 45.958138666882 90.847695548162 0.321098209077"
$ns_ at 0.000000000000 "$node_(8) setdest 145.987750348973 10.255515792674 3.906603505037"
$ns_ at 0.000000000000 "$node_(9) setdest 350.597173539971 136.690030463861 12.304740310504"
$god_ set-dist 0 1 2
$god_ set-dist 0 2 1
$god_ set-dist 0 3 1
$god_ set-dist 0 4 1
$god_ set-dist 0 5 2
$god_ set-dist 0 6 3
$god_ set-dist 0 7 1
$god_ set-dist 0 8 1
$god_ set-dist 0 9 1
$god_ set-dist 1 2 1
$god_ set-dist 1 3 2
$god_ set-dist 1 4 2
$god_ set-dist 1 5 1
$god_ set-dist 1 6 1
$god_ set-dist 1 7 1
$god_ set-dist 1 8 2
$god_ set-dist 1 9 2
$god_ set-dist 2 3 1
$god_ set-dist 2 4 1
$god_ set-dist 2 5 1
$god_ set-dist 2 6 2
$god_ set-dist 2 7 1
$god_ set-dist 2 8 1
$god_ set-dist 2 9 1
$god_ set-dist 3 4 1
$god_ set-dist 3 5 1
$god_ set-dist 3 6 2
$god_ set-dist 3 7 1
$god_ set-dist 3 8 1
$god_ set-dist 3 9 1
$god_ set-dist 4 5 2
$god_ set-dist 4 6 3
$god_ set-dist 4 7 1
$god_ set-dist 4 8 1
$god_ set-dist 4 9 1
$god_ set-dist 5 6 1
$god_ set-dist 5 7 1
$god_ set-dist 5 8 2
$god_ set-dist 5 9 2
$god_ set-dist 6 7 2
$god_ set-dist 6 8 3
$god_ set-dist 6 9 3
$god_ set-dist 7 8 1
$god_ set-dist 7 9 1
$god_ set-dist 8 9 1
$ns_ at 0.113123103727 "$god_ set-dist 5 9 1"
$ns_ at 0.113123103727 "$god_ set-dist 6 9 2"
$ns_ at 0.620775008762 "$god_ set-dist 1 3 1"
$ns_ at 1.439841758852 "$god_ set-dist 0 5 1"
$ns_ at 1.439841758852 "$god_ set-dist 0 6 2"
$ns_ at 1.452933251916 "$god_ set-dist 1 9 1"
$ns_ at 2.084419610131 "$god_ set-dist 5 8 1"
$ns_ at 2.084419610131 "$god_ set-dist 6 8 2"
$ns_ at 2.635775011366 "$god_ set-dist 1 8 1"
$ns_ at 5.881442184999 "$god_ set-dist 2 4 2"
$ns_ at 6.034749389728 "$node_(9) setdest 250.928392911587 226.601567965263 10.513942653057"
$ns_ at 6.141715139912 "$god_ set-dist 2 6 1"
$ns_ at 6.360312228488 "$god_ set-dist 0 2 2"
$ns_ at 6.415281448709 "$god_ set-dist 0 1 1"
$ns_ at 7.082374915496 "$god_ set-dist 4 5 1"
$ns_ at 7.082374915496 "$god_ set-dist 4 6 2"
$ns_ at 8.113894500387 "$node_(3) setdest 16.265567132094 285.531340490682 9.687844369344"
$ns_ at 9.918678431210 "$node_(5) setdest 494.095626932543 49.000336740182 1.468414786605"
$ns_ at 12.301745036887 "$node_(4) setdest 144.453146272864 72.531218777060 6.562659713680"
$ns_ at 12.714044258679 "$god_ set-dist 2 5 2"
$ns_ at 12.862667923431 "$god_ set-dist 6 9 1"
$ns_ at 13.008397782653 "$god_ set-dist 1 4 1"
$ns_ at 13.233435369300 "$god_ set-dist 3 6 1"
$ns_ at 13.910275367680 "$god_ set-dist 2 7 2"
$ns_ at 16.095768641217 "$god_ set-dist 4 9 2"
$ns_ at 17.503831002367 "$god_ set-dist 6 8 1"
$ns_ at 18.185145602090 "$god_ set-dist 6 7 1"
$ns_ at 18.801697396735 "$node_(9) setdest 64.201551339105 28.271115683110 3.451872267292"
$ns_ at 20.105753975381 "$god_ set-dist 1 2 2"
$ns_ at 21.074388745976 "$god_ set-dist 2 8 2"
$ns_ at 21.530735780270 "$god_ set-dist 4 9 1"
$ns_ at 23.154046843755 "$node_(2) setdest 50.015512249252 170.608805163445 10.485696271301"
$ns_ at 25.396864340107 "$god_ set-dist 3 4 2"
$ns_ at 25.843876438694 "$god_ set-dist 0 3 2"
$ns_ at 27.220757049201 "$god_ set-dist 2 8 1"
$ns_ at 27.381365938420 "$god_ set-dist 1 6 2"
$ns_ at 29.320782868653 "$god_ set-dist 3 5 2"
$ns_ at 29.758921100089 "$god_ set-dist 4 6 1"
$ns_ at 30.094919393562 "$god_ set-dist 1 3 2"
$ns_ at 30.803757429437 "$node_(2) setdest 321.592759432107 223.973423006589 0.103111616673"
$ns_ at 31.866470150222 "$god_ set-dist 3 7 2"
$ns_ at 34.237357030955 "$node_(1) setdest 31.470532074075 125.907430608930 13.318324794576"
$ns_ at 36.525469094260 "$god_ set-dist 1 6 1"
$ns_ at 38.828845490651 "$god_ set-dist 0 6 1"
$ns_ at 42.275495922087 "$god_ set-dist 3 8 2"
$ns_ at 43.448081256278 "$god_ set-dist 2 4 1"
$ns_ at 44.777607051222 "$god_ set-dist 1 2 1"
$ns_ at 46.302311652188 "$node_(3) setdest 271.336833466324 108.485180643601 8.285965827173"
$ns_ at 46.409406283791 "$node_(6) setdest 197.527632020821 267.383222564987 13.393258965993"
$ns_ at 46.990038598190 "$god_ set-dist 5 6 2"
$ns_ at 48.754600374000 "$god_ set-dist 1 3 1"
$ns_ at 49.057772887562 "$god_ set-dist 0 6 2"
$ns_ at 49.888498799546 "$node_(6) setdest 492.534782143132 232.474787569315 15.173487783430"
$ns_ at 50.340544516679 "$god_ set-dist 0 6 1"
$ns_ at 50.522294121268 "$god_ set-dist 3 8 1"
$ns_ at 52.334207206550 "$god_ set-dist 3 4 1"
$ns_ at 55.180545338610 "$god_ set-dist 5 6 1"
$ns_ at 55.854433426285 "$god_ set-dist 2 6 2"
$ns_ at 57.264160166239 "$god_ set-dist 0 1 2"
$ns_ at 58.484649611560 "$god_ set-dist 1 5 2"
$ns_ at 58.923471423372 "$god_ set-dist 1 6 2"
$ns_ at 59.456598200907 "$god_ set-dist 4 6 2"
#
# Destination Unreachables: 0
#
# Route Changes: 51
#
# Link Changes: 47
#
# Node | Route Changes | Link Changes
#    0 |             9 |            8
#    1 |            14 |           14
#    2 |            11 |           11
#    3 |            11 |           11
#    4 |            11 |           10
#    5 |             9 |            9
#    6 |            20 |           16
#    7 |             3 |            3
#    8 |             8 |            7
#    9 |             6 |            5
#
